package live

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// MinSecretLength is the shortest WEBHOOK_SECRET accepted: it is the only thing that tells
// Kajabi's deliveries from anyone else's, as Kajabi signs nothing.
const MinSecretLength = 32

// Receiver answers POST /webhooks/kajabi/{secret}: a delivery with the right secret, a
// body within maxBody and the shape of the spec's sample payloads is answered 202 at once
// and processed after; anything else is answered 4xx, counted, and never published. A
// full queue is 503 with Retry-After, so Kajabi delivers it again later.
func (h *Hub) Receiver(secret string, maxBody int64) http.Handler {
	want := sha256.Sum256([]byte(secret))
	if maxBody <= 0 {
		maxBody = 256 << 10
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(r.PathValue("secret")))
		if secret == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			h.refuse(w, "bad_secret", http.StatusNotFound, "no such webhook")
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			h.refuse(w, "bad_method", http.StatusMethodNotAllowed, "webhooks are POSTed")
			return
		}
		at := time.Now()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.Header().Set("Connection", "close")
			h.refuse(w, "too_large", http.StatusRequestEntityTooLarge, "the body is larger than a webhook delivery may be")
			return
		}
		if err != nil {
			h.refuse(w, "bad_shape", http.StatusBadRequest, "the body could not be read")
			return
		}
		if _, err := Parse(body, at); err != nil {
			h.refuse(w, "bad_shape", http.StatusBadRequest, err.Error())
			return
		}
		if !h.enqueue(body, at) {
			w.Header().Set("Retry-After", "1")
			h.refuse(w, "overloaded", http.StatusServiceUnavailable, "too many deliveries waiting; deliver again later")
			return
		}
		h.opts.Observe("accepted")
		w.WriteHeader(http.StatusAccepted)
	})
}

func (h *Hub) refuse(w http.ResponseWriter, outcome string, status int, msg string) {
	h.opts.Observe(outcome)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
