package kajabitest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// HookSamples are the webhook payloads the spec shows, by event: the JSON array in the
// description of each GET /v1/hooks/{event}_sample, which is where Kajabi documents what
// it POSTs (the response schemas are looser than the samples).
func HookSamples() (map[string][]json.RawMessage, error) {
	s, err := currentSpec()
	if err != nil {
		return nil, err
	}
	out := map[string][]json.RawMessage{}
	for path, item := range s.doc.Paths.Map() {
		event, ok := strings.CutPrefix(path, "/v1/hooks/")
		if !ok || !strings.HasSuffix(event, "_sample") || item.Get == nil {
			continue
		}
		d := item.Get.Description
		start := strings.Index(d, "```\n")
		if start < 0 {
			return nil, fmt.Errorf("kajabitest: %s shows no sample", path)
		}
		body, _, ok := strings.Cut(d[start+4:], "```")
		if !ok {
			return nil, fmt.Errorf("kajabitest: %s: the sample does not end", path)
		}
		var payload []json.RawMessage
		if err := json.Unmarshal([]byte(body), &payload); err != nil {
			return nil, fmt.Errorf("kajabitest: %s: the sample: %w", path, err)
		}
		out[strings.TrimSuffix(event, "_sample")] = payload
	}
	return out, nil
}
