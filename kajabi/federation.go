package kajabi

// IsEntity marks the records a federated GraphQL gateway may ask for by key (Apollo
// Federation's _Entity union, which the GraphQL layer's generated code types as
// fedruntime.Entity). It carries no behaviour.
func (Customer) IsEntity() {}

// IsEntity marks Contact as a federation entity; see Customer.IsEntity.
func (Contact) IsEntity() {}

// IsEntity marks Site as a federation entity; see Customer.IsEntity.
func (Site) IsEntity() {}

// IsEntity marks Product as a federation entity; see Customer.IsEntity.
func (Product) IsEntity() {}

// IsEntity marks Offer as a federation entity; see Customer.IsEntity.
func (Offer) IsEntity() {}

// IsEntity marks Purchase as a federation entity; see Customer.IsEntity.
func (Purchase) IsEntity() {}

// IsEntity marks Order as a federation entity; see Customer.IsEntity.
func (Order) IsEntity() {}

// IsEntity marks Transaction as a federation entity; see Customer.IsEntity.
func (Transaction) IsEntity() {}
