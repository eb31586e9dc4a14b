package loader

import (
	"context"
	"strconv"
	"strings"
)

// What Kajabi's events change in the Cache. A purchase, order or payment changes the
// members count of the site's products (the customer's own offers are never kept across
// requests: each subscription event reads them afresh, see Renew); a tag added or removed
// may be a tag the site's tag list did not have yet.

// ForgetPurchase drops what a purchase on siteID made stale, for every credential.
func (c *Cache) ForgetPurchase(ctx context.Context, siteID string) {
	c.forgetEverywhere(ctx, "products?site="+siteID+"#")
}

// ForgetTagging drops what a tag added to or removed from a contact of siteID made stale,
// for every credential.
func (c *Cache) ForgetTagging(ctx context.Context, siteID string) {
	c.forgetEverywhere(ctx, "contact_tags?site="+siteID+"#")
}

// eventPages are the list pages forgotten in the fleet's store for the service's own
// credential even when this replica holds none of them: the store cannot be searched by
// prefix cheaply, and a site's catalogue rarely has more pages than this.
const eventPages = 5

// forgetEverywhere drops the entries whose key starts with prefix for every credential
// this process holds, here and in the fleet's store, and the service credential's first
// pages in the fleet's store. An event is the account's, not one caller's.
func (c *Cache) forgetEverywhere(ctx context.Context, prefix string) {
	if c == nil || c.lru == nil {
		return
	}
	byIdentity := map[string][]string{}
	for _, k := range c.lru.Keys() {
		if strings.HasPrefix(k.key, prefix) {
			byIdentity[k.identity] = append(byIdentity[k.identity], k.key)
		}
	}
	for n := 1; n <= eventPages; n++ {
		byIdentity["service"] = append(byIdentity["service"], prefix+strconv.Itoa(n))
	}
	for identity, keys := range byIdentity {
		c.Forget(ctx, identity, keys...)
	}
}

// Renew is ctx with fresh loaders for the same caller and settings: a subscription
// resolves each event with its own, so nothing read for one event answers the next.
func Renew(ctx context.Context) context.Context {
	old, ok := ctx.Value(ctxKey{}).(*Loaders)
	caller, okCaller := CallerOf(ctx)
	if !ok || !okCaller {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, New(old.cfg, caller.Client, caller.Credential))
}
