package service_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestOperatorAPIIsServed checks that Run serves the operator API behind Config.AdminToken.
func TestOperatorAPIIsServed(t *testing.T) {
	h := start(t)
	put := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPut, h.base+"/products/T-NEW", strings.NewReader(`{"name":"New","price":100,"currency":"EUR","available":5}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := put("Bearer wrong"); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", status)
	}
	if status := put("Bearer " + adminToken); status != http.StatusCreated {
		t.Fatalf("with the token: %d, want 201", status)
	}
	if p := h.product("T-NEW"); p.Available != 5 {
		t.Errorf("GET after PUT: %+v, want 5 available", p)
	}
}
