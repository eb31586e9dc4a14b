package loader

// Observer receives what the loaders do, for metrics. Each field is optional. The functions
// are called from many goroutines at once and must return quickly.
type Observer struct {
	// OnBatch follows every batch a loader dispatches: loader names it ("contacts",
	// "customers", "customers_by_email", "customer_offers", "sites", "products", "offers")
	// and size is how many keys the batch gathered.
	OnBatch func(loader string, size int)
	// OnCacheLookup follows every look-up in the shared Cache: hit is true when the answer
	// came from it and no Kajabi call was needed.
	OnCacheLookup func(hit bool)
}

func (o Observer) cacheLookup(hit bool) {
	if o.OnCacheLookup != nil {
		o.OnCacheLookup(hit)
	}
}
