// Command goproxy is the bench's floor for a facade: the cheapest honest thing a user could
// write instead of a GraphQL server. It takes the bench's list request (a JSON body with
// variables.page), makes the one Kajabi call with a sparse fieldset, decodes the answer with
// encoding/json and writes the eight fields back in the shape the facade answers with. No
// GraphQL, no limits, no cache: whatever the facade spends above this is the GraphQL tax.
//
//	goproxy -listen 127.0.0.1:0 -kajabi http://127.0.0.1:PORT -token TOKEN
//
// POST /a asks for a page of 20 (workload a), POST /c the filtered, sorted page (workload c).
// It prints "goproxy: http://127.0.0.1:PORT" once it listens.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

const fields = "&fields[customers]=name,email,avatar,net_revenue,sign_in_count,created_at,updated_at"

var queries = map[string]string{
	"/a": "/v1/customers?filter[site_id]=101&page[size]=20&page[number]=",
	"/c": "/v1/customers?filter[site_id]=101&filter[net_revenue_greater_than]=100&filter[subscribed]=true&sort=-net_revenue&page[size]=20&page[number]=",
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
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	base := flag.String("kajabi", "", "Kajabi base URL")
	token := flag.String("token", "", "bearer token")
	flag.Parse()
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}

	http.HandleFunc("POST /{workload}", func(w http.ResponseWriter, r *http.Request) {
		path, ok := queries[r.URL.Path]
		var in struct {
			Variables struct{ Page int } `json:"variables"`
		}
		if !ok || json.NewDecoder(r.Body).Decode(&in) != nil || in.Variables.Page < 1 {
			http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, *base+path+strconv.Itoa(in.Variables.Page)+fields, nil)
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Accept", "application/vnd.api+json")
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, `{"errors":[{"message":"kajabi unreachable"}]}`, http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var doc struct{ Data []customer }
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&doc) != nil {
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
			out.Data.Customers.Nodes[i] = node{c.ID, a.Name, a.Email, a.Avatar, a.NetRevenue, a.SignInCount, a.CreatedAt, a.UpdatedAt}
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
