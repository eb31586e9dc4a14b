package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// GET /v1/form_submissions and /v1/form_submissions/{id}: the submissions form_submission
// events made (the generated account has none), so every id such an event names can be
// read back.

var submissionsList = list[FormSubmission]{
	path: "/v1/form_submissions", typ: "form_submissions",
	sorts: map[string]func(a, b *FormSubmission) int{
		"name":       compareText(func(s *FormSubmission) string { return s.Name }),
		"email":      compareText(func(s *FormSubmission) string { return s.Email }),
		"created_at": byTime(func(s *FormSubmission) time.Time { return s.CreatedAt }),
	},
	id:    func(s *FormSubmission) string { return s.ID },
	write: func(j *jw, s *FormSubmission, only map[string]bool) { writeSubmission(j, s, false, only) },
}

// The attributes a submission has beyond name and email, all null: the sandbox's forms ask
// for a name and an email only. The hook's sample adds mobile_phone_number; the resource
// (form_submission_attributes) has custom_1..3 instead.
var (
	submissionNulls     = []string{"phone_number", "business_number", "address_line_1", "address_line_2", "address_city", "address_state", "address_country", "address_zip", "custom_1", "custom_2", "custom_3"}
	submissionHookNulls = []string{"address_line_1", "address_line_2", "address_city", "address_country", "address_state", "address_zip", "phone_number", "business_number", "mobile_phone_number"}
)

// writeSubmission writes a form submission as GET /v1/form_submissions/{id} does, or with
// hook as the form_submission sample shows it.
func writeSubmission(j *jw, s *FormSubmission, hook bool, only map[string]bool) {
	j.obj()
	j.k("id")
	j.str(s.ID)
	j.k("type")
	j.str("form_submissions")
	j.k("attributes")
	j.obj()
	nulls := submissionNulls
	if hook {
		nulls = submissionHookNulls
	}
	for _, name := range append([]string{"name", "email"}, nulls...) {
		if only != nil && !only[name] {
			continue
		}
		j.k(name)
		switch name {
		case "name":
			j.str(s.Name)
		case "email":
			j.str(s.Email)
		default:
			j.null()
		}
	}
	j.endObj()
	rel := j.relationships(only)
	rel.toOne("site", "sites", s.SiteID)
	rel.toOne("form", "forms", s.FormID)
	rel.end()
	j.endObj()
}

func listSubmissions(st *Store, w http.ResponseWriter, rc *reqCtx, _ string) {
	submissionsList.servePtrs(w, rc, st.hist.submissions,
		eqFilter(rc, "site_id", func(s *FormSubmission) string { return s.SiteID }),
		eqFilter(rc, "form_id", func(s *FormSubmission) string { return s.FormID }),
	)
}

func showSubmission(st *Store, w http.ResponseWriter, rc *reqCtx, id string) {
	id = strings.TrimSpace(id)
	for _, s := range st.hist.submissions {
		if s.ID == id {
			submissionsList.show(w, rc, s)
			return
		}
	}
	notFound(w, "form submission", id)
}

// Submissions returns the form submissions the sandbox's events made, oldest first.
func (s *Store) Submissions() []FormSubmission {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return copies(s.hist.submissions)
}
