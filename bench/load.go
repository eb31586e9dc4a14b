package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is the request the load generator sends over and over: the n-th request sent
// is variant n mod len(variants), so that concurrent requests ask for different pages and
// no cache or shared in-flight call can stand in for the work a request costs.
type target struct {
	method   string
	variants []variant
	header   http.Header
	// graphql: an answer with an "errors" member counts as an error.
	graphql bool
}

// loadResult is what one bounded run measured.
// variant is one URL and body of a target.
type variant struct {
	url  string
	body []byte
}

type loadResult struct {
	Requests int           // answered, successful or not
	Errors   int           // not 200, or a GraphQL answer with errors, or a transport error
	Elapsed  time.Duration // from the first request sent to the last answer read
	P50, P99 time.Duration
	RPS      float64
	FirstErr string
}

// newHTTPClient is a keep-alive client with a connection per worker, so the load
// generator measures the server and not connection set-up.
func newHTTPClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        conc * 2,
			MaxIdleConnsPerHost: conc * 2,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// runLoad sends t from conc workers, each one request after the other (closed loop),
// until maxRequests have been sent or maxDur has passed, whichever comes first. Every
// request is answered or times out (30 s) before runLoad returns.
func runLoad(ctx context.Context, client *http.Client, t target, conc, maxRequests int, maxDur time.Duration) loadResult {
	var sent, errs atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, conc)
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			own := make([]time.Duration, 0, 1024)
			for ctx.Err() == nil {
				n := sent.Add(1)
				if n > int64(maxRequests) {
					break
				}
				t0 := time.Now()
				err := send(client, t, t.variants[int(n)%len(t.variants)], &buf)
				own = append(own, time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			lats[w] = own
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lats...)
	slices.Sort(all)
	r := loadResult{Requests: len(all), Errors: int(errs.Load()), Elapsed: elapsed}
	if len(all) > 0 {
		r.P50 = percentile(all, 0.50)
		r.P99 = percentile(all, 0.99)
		r.RPS = float64(len(all)) / elapsed.Seconds()
	}
	if s, ok := firstErr.Load().(string); ok {
		r.FirstErr = s
	}
	return r
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// send makes one request and reads the whole answer into buf.
func send(client *http.Client, t target, v variant, buf *bytes.Buffer) error {
	var body io.Reader
	if v.body != nil {
		body = bytes.NewReader(v.body)
	}
	req, err := http.NewRequest(t.method, v.url, body)
	if err != nil {
		return err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, buf.Bytes())
	}
	if t.graphql && bytes.Contains(buf.Bytes(), []byte(`"errors":`)) {
		return fmt.Errorf("graphql errors: %.300s", buf.Bytes())
	}
	return nil
}

// fetchOnce sends t's first variant once and returns the answer's body, for checking
// its shape.
func fetchOnce(client *http.Client, t target) ([]byte, error) {
	var buf bytes.Buffer
	if err := send(client, t, t.variants[0], &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
