package edge

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestStreamOutlivesWriteTimeout: a server whose WriteTimeout is shorter than a stream
// still delivers every event of it through renewingWriter, and cuts the same stream
// written without it.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	const events = 8
	for _, renew := range []bool{true, false} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if renew {
				w = renewingWriter{w, http.NewResponseController(w)}
			}
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range events {
				_, _ = w.Write([]byte("data: " + strings.Repeat("x", i+1) + "\n\n"))
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
		}))
		srv.Config.WriteTimeout = 300 * time.Millisecond
		srv.Start()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") {
				got++
			}
		}
		resp.Body.Close()
		srv.Close()
		if renew && got != events {
			t.Errorf("renewing: got %d of %d events past a 300ms WriteTimeout", got, events)
		}
		if !renew && got == events {
			t.Errorf("without renewing: all %d events arrived; the test no longer shows the cut", events)
		}
	}
}
