package kajabitest

import (
	"net/http"
	"slices"
	"testing"

	"github.com/kajabi-graphql/facade/kajabi"
	"github.com/kajabi-graphql/facade/kajabi/sandbox"
)

// TestContractHistory sends every Customer 360 call of the client (lists with each filter
// the facade uses, reads by id, and the writes, 404s included) to the sandbox behind the
// recorder, whose cleanup checks each request and answer against openapi.yaml.
func TestContractHistory(t *testing.T) {
	requireSpec(t)
	u := NewSandbox(t, sandbox.Options{Customers: 200})
	c := u.Client(t)
	st := u.Sandbox.Store()
	ctx := t.Context()
	var cust sandbox.Customer
	for _, x := range st.Customers {
		if len(st.Orders(x.ID)) > 0 && len(st.Notes(x.ContactID)) > 0 {
			cust = x
			break
		}
	}
	yes := true
	purchases, _, err := c.Purchases.List(ctx, &kajabi.PurchaseListOptions{CustomerID: cust.ID, Active: &yes, ListOptions: kajabi.ListOptions{PageSize: 5}})
	if err != nil || len(purchases) == 0 {
		t.Fatalf("Purchases.List: %d, %v", len(purchases), err)
	}
	if got, _, err := c.Purchases.Get(ctx, purchases[0].ID); err != nil || got.Offer == nil || got.Customer.ID != cust.ID {
		t.Errorf("Purchases.Get(%s): got %+v, %v", purchases[0].ID, got, err)
	}
	orders, _, err := c.Orders.List(ctx, &kajabi.OrderListOptions{CustomerID: cust.ID, ListOptions: kajabi.ListOptions{PageSize: 100}})
	if err != nil || len(orders) != len(st.Orders(cust.ID)) {
		t.Fatalf("Orders.List: got %d, want %d, %v", len(orders), len(st.Orders(cust.ID)), err)
	}
	if _, _, err := c.Orders.Get(ctx, orders[0].ID); err != nil {
		t.Errorf("Orders.Get: %v", err)
	}
	txs, _, err := c.Transactions.List(ctx, &kajabi.TransactionListOptions{CustomerID: cust.ID, StartDate: "2000-01-01", EndDate: "2100-01-01"})
	if err != nil || len(txs) == 0 {
		t.Fatalf("Transactions.List: %d, %v", len(txs), err)
	}
	if _, _, err := c.Transactions.Get(ctx, txs[0].ID); err != nil {
		t.Errorf("Transactions.Get: %v", err)
	}
	if _, _, err := c.ContactNotes.List(ctx, &kajabi.ContactNoteListOptions{ContactID: cust.ContactID}); err != nil {
		t.Errorf("ContactNotes.List: %v", err)
	}
	if _, _, err := c.ContactTags.List(ctx, &kajabi.ContactTagListOptions{SiteID: cust.SiteID, ListOptions: kajabi.ListOptions{PageSize: 100}}); err != nil {
		t.Errorf("ContactTags.List: %v", err)
	}
	if _, _, err := c.Contacts.ListTagIDs(ctx, cust.ContactID); err != nil {
		t.Errorf("Contacts.ListTagIDs: %v", err)
	}

	var offer string
	for _, o := range st.Offers {
		if o.SiteID == cust.SiteID && !slices.Contains(cust.OfferIDs, o.ID) {
			offer = o.ID
			break
		}
	}
	held, _, err := c.Customers.GrantOffers(ctx, cust.ID, []string{offer})
	if err != nil || !slices.ContainsFunc(held, func(i kajabi.Identifier) bool { return i.ID == offer }) {
		t.Errorf("GrantOffers: got %v, %v", held, err)
	}
	if _, _, err := c.Customers.RevokeOffers(ctx, cust.ID, []string{offer}); err != nil {
		t.Errorf("RevokeOffers: %v", err)
	}
	if _, _, err := c.Customers.SetOffers(ctx, cust.ID, cust.OfferIDs); err != nil {
		t.Errorf("SetOffers: %v", err)
	}
	_, _, err = c.Customers.GrantOffers(ctx, "999999999", []string{offer})
	wantStatus(t, err, http.StatusNotFound)
	_, _, err = c.Customers.GrantOffers(ctx, cust.ID, []string{"999999999"})
	wantStatus(t, err, http.StatusNotFound)

	tag := st.Tags[0].ID
	for _, tg := range st.Tags {
		if tg.SiteID == cust.SiteID {
			tag = tg.ID
		}
	}
	if _, _, err := c.Contacts.AddTags(ctx, cust.ContactID, []string{tag}); err != nil {
		t.Errorf("AddTags: %v", err)
	}
	if _, _, err := c.Contacts.RemoveTags(ctx, cust.ContactID, []string{tag}); err != nil {
		t.Errorf("RemoveTags: %v", err)
	}
	if n, _, err := c.ContactNotes.Create(ctx, cust.ContactID, "Asked for the annual plan."); err != nil || n.Contact == nil || n.Contact.ID != cust.ContactID {
		t.Errorf("ContactNotes.Create: got %+v, %v", n, err)
	}
}
