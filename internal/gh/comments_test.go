package gh

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

const planMarker = "<!-- meshcentral-authentik:plan -->"

// commentPages serves the comments of issue 7 in pages of three, with Link
// headers, and returns the stub. Each comment ID is 100 plus its index.
func commentPages(t *testing.T, bodies []string) *stubAPI {
	t.Helper()
	s := newStub(t)
	s.handle("GET /repos/octo/deploy/issues/7/comments", func(w http.ResponseWriter, r *http.Request, _ []byte) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 0 {
			page = 1
		}
		const size = 3
		start, end := (page-1)*size, page*size
		if end >= len(bodies) {
			end = len(bodies)
		} else {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s?page=%d&per_page=100>; rel="next"`, r.Host, r.URL.Path, page+1))
		}
		out := []map[string]any{}
		for i := start; i < end; i++ {
			out = append(out, map[string]any{"id": 100 + i, "body": bodies[i], "user": map[string]string{"login": fmt.Sprintf("user%d", i)}})
		}
		writeJSONStatus(w, 200, out)
	})
	return s
}

func TestUpsertCommentEditsMarkerOnPageThree(t *testing.T) {
	t.Parallel()
	bodies := []string{"a", "b", "c", "d", "mentions the plan", "f", "g", planMarker + "\nold plan", "i"}
	s := commentPages(t, bodies)
	s.json("PATCH /repos/octo/deploy/issues/comments/107", 200, map[string]any{"id": 107})
	c := s.start(Config{})

	op, err := c.UpsertComment(context.Background(), testRepo, 7, planMarker, planMarker+"\nnew plan")
	if err != nil || op != CommentUpdated {
		t.Fatalf("UpsertComment = %q, %v; want %q", op, err, CommentUpdated)
	}
	if got := s.writes(); len(got) != 1 || got[0] != "PATCH /repos/octo/deploy/issues/comments/107" {
		t.Errorf("writes = %q, want one PATCH of comment 107", got)
	}
	var sent struct{ Body string }
	_ = json.Unmarshal(s.sent("PATCH /repos/octo/deploy/issues/comments/107"), &sent)
	if sent.Body != planMarker+"\nnew plan" {
		t.Errorf("sent body %q", sent.Body)
	}
	if n := s.count("GET /repos/octo/deploy/issues/7/comments"); n != 3 {
		t.Errorf("read %d pages, want 3", n)
	}
}

func TestUpsertCommentUnchangedSendsNoWrite(t *testing.T) {
	t.Parallel()
	s := commentPages(t, []string{"x", planMarker + "\r\nsame plan"})
	c := s.start(Config{})

	op, err := c.UpsertComment(context.Background(), testRepo, 7, planMarker, planMarker+"\nsame plan")
	if err != nil || op != CommentNone {
		t.Fatalf("UpsertComment = %q, %v; want %q", op, err, CommentNone)
	}
	if w := s.writes(); len(w) != 0 {
		t.Errorf("writes = %q, want none", w)
	}
}

func TestUpsertCommentCreatesWithMarker(t *testing.T) {
	t.Parallel()
	s := commentPages(t, []string{"x", "y", "z", "w"})
	s.json("POST /repos/octo/deploy/issues/7/comments", 201, map[string]any{"id": 200})
	c := s.start(Config{})

	op, err := c.UpsertComment(context.Background(), testRepo, 7, planMarker, "## Plan\n")
	if err != nil || op != CommentCreated {
		t.Fatalf("UpsertComment = %q, %v; want %q", op, err, CommentCreated)
	}
	var sent struct{ Body string }
	_ = json.Unmarshal(s.sent("POST /repos/octo/deploy/issues/7/comments"), &sent)
	if sent.Body != planMarker+"\n## Plan\n" {
		t.Errorf("created body %q, want the marker line first", sent.Body)
	}
	if n := s.count("GET /repos/octo/deploy/issues/7/comments"); n != 2 {
		t.Errorf("read %d pages, want 2", n)
	}
}

func TestUpsertCommentLengthLimit(t *testing.T) {
	t.Parallel()
	s := commentPages(t, nil)
	s.json("POST /repos/octo/deploy/issues/7/comments", 201, map[string]any{"id": 200})
	c := s.start(Config{})
	ctx := context.Background()

	fits := planMarker + "\n" + strings.Repeat("x", MaxCommentLength-len(planMarker)-2)
	if op, err := c.UpsertComment(ctx, testRepo, 7, planMarker, fits); err != nil || op != CommentCreated {
		t.Errorf("UpsertComment(65535 characters) = %q, %v; want created", op, err)
	}

	before := len(s.requests())
	tooLong := planMarker + "\n" + strings.Repeat("é", MaxCommentLength-len(planMarker)-1)
	_, err := c.UpsertComment(ctx, testRepo, 7, planMarker, tooLong)
	if err == nil || !strings.Contains(err.Error(), "the body has 65536 characters") {
		t.Errorf("UpsertComment(65536 characters) error = %v, want a length error", err)
	}
	if n := len(s.requests()); n != before {
		t.Errorf("sent %d requests for a body over the limit, want none", n-before)
	}
}

func TestUpsertCommentRejectsBadMarker(t *testing.T) {
	t.Parallel()
	c, err := New(Config{Token: "t", APIURL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"", "meshcentral-authentik:plan", "<!---->"} {
		if _, err := c.UpsertComment(context.Background(), testRepo, 7, m, "body"); err == nil || !strings.Contains(err.Error(), "HTML comment") {
			t.Errorf("UpsertComment(marker %q) error = %v, want a marker error", m, err)
		}
	}
}

func TestUpsertCommentForbiddenHint(t *testing.T) {
	t.Parallel()
	s := commentPages(t, nil)
	s.json("POST /repos/octo/deploy/issues/7/comments", 403, map[string]string{"message": "Resource not accessible by integration"})
	c := s.start(Config{})

	_, err := c.UpsertComment(context.Background(), testRepo, 7, planMarker, "plan")
	if err == nil || !strings.Contains(err.Error(), `"pull-requests: write"`) {
		t.Errorf("UpsertComment error = %v, want the permissions hint", err)
	}
}
