// Command goproxy is the bench's floor for a facade: the cheapest honest thing a user could
// write instead of a GraphQL server. It takes the bench's list request (a JSON body with
// variables.page), makes the one Kajabi call with a sparse fieldset, decodes the answer with
// encoding/json and writes the eight fields back in the shape the facade answers with. No
// GraphQL, no limits, no cache: whatever the facade spends above this is the GraphQL tax.
//
//	goproxy -listen 127.0.0.1:0 -kajabi http://127.0.0.1:PORT -token TOKEN [-ca-file PEM]
//
// POST /a asks for a page of 20 (workload a), POST /c the filtered, sorted page (workload c).
// POST /b is the page with each customer's contact, site and products (workload b): the list,
// then the 20 contacts at once, one GET each (Kajabi has no batch read); the site list and
// the site's products it keeps for a minute, as the facade's CACHE_TTL does, so both make
// the same 21 calls a request. It prints "goproxy: http://127.0.0.1:PORT" once it listens.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

const fields = "&fields[customers]=name,email,avatar,net_revenue,sign_in_count,created_at,updated_at"

var queries = map[string]string{
	"/a": "/v1/customers?filter[site_id]=101&page[size]=20&page[number]=",
	"/c": "/v1/customers?filter[site_id]=101&filter[net_revenue_greater_than]=100&filter[subscribed]=true&sort=-net_revenue&page[size]=20&page[number]=",
	"/b": "/v1/customers?filter[site_id]=101&page[size]=20&page[number]=",
}

// relations are what /b adds to each customer's fieldset.
const relations = ",contact,site,products"

type identifier struct {
	ID string `json:"id"`
}

type customer struct {
	ID         string `json:"id"`
	Attributes struct {
		Name        string  `json:"name"`
		Email       string  `json:"email"`
		Avatar      *string `json:"avatar"`
		NetRevenue  string  `json:"net_revenue"`
		SignInCount int     `json:"sign_in_count"`
		CreatedAt   string  `json:"created_at"`
		UpdatedAt   string  `json:"updated_at"`
	} `json:"attributes"`
	Relationships struct {
		Contact  struct{ Data *identifier }  `json:"contact"`
		Site     struct{ Data *identifier }  `json:"site"`
		Products struct{ Data []identifier } `json:"products"`
	} `json:"relationships"`
}

type contact struct {
	ID         string `json:"id"`
	Attributes struct {
		Email          string  `json:"email"`
		PhoneNumber    *string `json:"phone_number"`
		AddressCity    *string `json:"address_city"`
		AddressCountry *string `json:"address_country"`
	} `json:"attributes"`
}

type titled struct {
	ID         string `json:"id"`
	Attributes struct {
		Title           string `json:"title"`
		ProductTypeName string `json:"product_type_name"`
	} `json:"attributes"`
}

type node struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Email       string  `json:"email"`
	Avatar      *string `json:"avatar"`
	NetRevenue  string  `json:"netRevenue"`
	SignInCount int     `json:"signInCount"`
	CreatedAt   string  `json:"createdAt"`
	UpdatedAt   string  `json:"updatedAt"`

	Contact  *contactNode `json:"contact,omitempty"`
	Site     *siteNode    `json:"site,omitempty"`
	Products []product    `json:"products,omitempty"`
}

type contactNode struct {
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	PhoneNumber    *string `json:"phoneNumber"`
	AddressCity    *string `json:"addressCity"`
	AddressCountry *string `json:"addressCountry"`
}

type siteNode struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type product struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	ProductType string `json:"productType"`
}

// kajabi makes GETs with the token and decodes JSON:API documents.
type kajabi struct {
	client *http.Client
	base   string
	token  string
}

func (k *kajabi) get(r *http.Request, path string, into any) error {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, k.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Accept", "application/vnd.api+json")
	resp, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// kept is a list read at most once a minute.
type kept[T any] struct {
	mu   sync.Mutex
	at   time.Time
	byID map[string]T
}

func (c *kept[T]) get(read func() (map[string]T, error)) (map[string]T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID != nil && time.Since(c.at) < time.Minute {
		return c.byID, nil
	}
	m, err := read()
	if err == nil {
		c.byID, c.at = m, time.Now()
	}
	return m, err
}

// relate fills in each node's contact, site and products.
func (k *kajabi) relate(r *http.Request, rows []customer, nodes []node, sites *kept[siteNode], products *kept[product]) error {
	errs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, c := range rows {
		if c.Relationships.Contact.Data == nil {
			continue
		}
		wg.Go(func() {
			var doc struct{ Data contact }
			if errs[i] = k.get(r, "/v1/contacts/"+c.Relationships.Contact.Data.ID, &doc); errs[i] == nil {
				a := doc.Data.Attributes
				nodes[i].Contact = &contactNode{doc.Data.ID, a.Email, a.PhoneNumber, a.AddressCity, a.AddressCountry}
			}
		})
	}
	siteByID, err := sites.get(func() (map[string]siteNode, error) {
		var doc struct{ Data []titled }
		err := k.get(r, "/v1/sites?page[size]=100", &doc)
		m := map[string]siteNode{}
		for _, s := range doc.Data {
			m[s.ID] = siteNode{s.ID, s.Attributes.Title}
		}
		return m, err
	})
	if err != nil {
		wg.Wait()
		return err
	}
	productByID, err := products.get(func() (map[string]product, error) {
		var doc struct{ Data []titled }
		err := k.get(r, "/v1/products?filter[site_id]=101&page[size]=100", &doc)
		m := map[string]product{}
		for _, p := range doc.Data {
			m[p.ID] = product{p.ID, p.Attributes.Title, p.Attributes.ProductTypeName}
		}
		return m, err
	})
	wg.Wait()
	if err != nil {
		return err
	}
	for i, c := range rows {
		if errs[i] != nil {
			return errs[i]
		}
		if s := c.Relationships.Site.Data; s != nil {
			site := siteByID[s.ID]
			nodes[i].Site = &site
		}
		nodes[i].Products = make([]product, 0, len(c.Relationships.Products.Data))
		for _, p := range c.Relationships.Products.Data {
			nodes[i].Products = append(nodes[i].Products, productByID[p.ID])
		}
	}
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	base := flag.String("kajabi", "", "Kajabi base URL")
	token := flag.String("token", "", "bearer token")
	caFile := flag.String("ca-file", "", "PEM certificates to trust for an HTTPS Kajabi (then HTTP/2 is used)")
	flag.Parse()
	tr := &http.Transport{MaxIdleConnsPerHost: 256}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			fmt.Fprintln(os.Stderr, "goproxy: no certificates in", *caFile, err)
			os.Exit(1)
		}
		tr.TLSClientConfig, tr.ForceAttemptHTTP2 = &tls.Config{RootCAs: pool}, true
	}
	client := &http.Client{Timeout: 15 * time.Second, Transport: tr}
	k := &kajabi{client: client, base: *base, token: *token}
	sites, products := &kept[siteNode]{}, &kept[product]{}

	http.HandleFunc("POST /{workload}", func(w http.ResponseWriter, r *http.Request) {
		path, ok := queries[r.URL.Path]
		var in struct {
			Variables struct{ Page int } `json:"variables"`
		}
		if !ok || json.NewDecoder(r.Body).Decode(&in) != nil || in.Variables.Page < 1 {
			http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
			return
		}
		withRelations := r.URL.Path == "/b"
		path += strconv.Itoa(in.Variables.Page) + fields
		if withRelations {
			path += relations
		}
		var doc struct{ Data []customer }
		if err := k.get(r, path, &doc); err != nil {
			http.Error(w, `{"errors":[{"message":"kajabi failed"}]}`, http.StatusBadGateway)
			return
		}
		var out struct {
			Data struct {
				Customers struct {
					Nodes []node `json:"nodes"`
				} `json:"customers"`
			} `json:"data"`
		}
		out.Data.Customers.Nodes = make([]node, len(doc.Data))
		for i, c := range doc.Data {
			a := c.Attributes
			out.Data.Customers.Nodes[i] = node{ID: c.ID, Name: a.Name, Email: a.Email, Avatar: a.Avatar, NetRevenue: a.NetRevenue,
				SignInCount: a.SignInCount, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
		}
		if withRelations {
			if err := k.relate(r, doc.Data, out.Data.Customers.Nodes, sites, products); err != nil {
				http.Error(w, `{"errors":[{"message":"kajabi failed"}]}`, http.StatusBadGateway)
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		os.Exit(1)
	}
	fmt.Printf("goproxy: http://%s\n", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "goproxy:", err)
		os.Exit(1)
	}
}
