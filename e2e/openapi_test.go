package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/edmshop/edm-shop/api"
)

// openAPI is api/openapi.yaml, loaded and checked once, with a router that finds an operation
// by method and path on any host (the tests run the programs on free ports, not the servers the
// document lists).
type openAPI struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	openAPIOnce sync.Once
	openAPIDoc  *openAPI
	openAPIErr  error
)

func loadOpenAPI() (*openAPI, error) {
	openAPIOnce.Do(func() {
		openAPIDoc, openAPIErr = parseOpenAPI(api.OpenAPI)
	})
	return openAPIDoc, openAPIErr
}

func parseOpenAPI(data []byte) (*openAPI, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("api/openapi.yaml does not load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &openAPI{doc: doc, router: router}, nil
}

func init() {
	// Bodies the document describes as strings: read them as text so their answers validate.
	for _, ct := range []string{"text/html", "text/event-stream"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// serviceTags maps a host:port to the tag of the program serving it, so a request is checked
// against the operations of the program it was sent to (/products is inventory-service's, not
// order-service's). Hosts not registered are checked against every operation.
var serviceTags sync.Map

// registerServices records which program listens at each of tg's URLs.
func registerServices(tg *target) {
	for base, tag := range map[string]string{
		tg.orderURL: "order-service", tg.inventoryURL: "inventory-service",
		tg.paymentURL: "payment-service", tg.gatewayURL: "payment-gateway",
	} {
		if u, err := url.Parse(base); err == nil && u.Host != "" {
			serviceTags.Store(u.Host, tag)
		}
	}
}

// contractTransport checks every request the tests send and every answer they get against
// api/openapi.yaml. A request the document does not allow (the tests send bad ones on purpose)
// must be refused with a 4xx; any other answer must be one the operation documents: its status,
// its headers and its body. A violation is returned as the round trip's error, so the test that
// made the call fails with it.
type contractTransport struct {
	next http.RoundTripper
}

func (ct contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := loadOpenAPI()
	if err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		// The document promises 404 NOT_FOUND for a path no program serves and 405
		// METHOD_NOT_ALLOWED for a method a path does not allow, both with the error body.
		var rerr *routers.RouteError
		if !errors.As(err, &rerr) {
			return nil, err
		}
		want := http.StatusNotFound
		if rerr.Reason == routers.ErrMethodNotAllowed.Error() {
			want = http.StatusMethodNotAllowed
		}
		return ct.offDocument(c, req, want, err)
	}
	if tag, ok := serviceTags.Load(req.URL.Host); ok && !slices.Contains(route.Operation.Tags, tag.(string)) {
		return nil, fmt.Errorf("openapi: %s %s was sent to %s, but api/openapi.yaml has it only on %v",
			req.Method, req.URL.Path, tag, route.Operation.Tags)
	}
	checked := req.Clone(req.Context())
	checked.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{
		Request: checked, PathParams: pathParams, Route: route,
		// The operator token is the program's business: tests send wrong ones on purpose.
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)

	resp, err := ct.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	var respBody []byte
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		// A stream ends when the saga does: check its status and headers, leave the body to the test.
		opts.ExcludeResponseBody = true
	} else {
		respBody, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(respBody))
	}
	if err := checkAnswer(in, reqErr, resp, respBody, opts); err != nil {
		if opts.ExcludeResponseBody {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// offDocument sends a request for no operation of the document and checks that it was refused
// with want and the error body.
func (ct contractTransport) offDocument(c *openAPI, req *http.Request, want int, why error) (*http.Response, error) {
	resp, err := ct.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode != want {
		return nil, fmt.Errorf("openapi: %s %s is not an operation of api/openapi.yaml (%v), yet it was answered %d, not %d",
			req.Method, req.URL.Path, why, resp.StatusCode, want)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("openapi: the %d answer to %s %s is not JSON: %s", want, req.Method, req.URL.Path, truncate(body))
	}
	if err := c.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return nil, fmt.Errorf("openapi: the %d answer to %s %s is not the error body: %w", want, req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// checkAnswer applies the transport's rule to one exchange: a request outside the document must
// be refused with a 4xx, and whatever the answer, it must be one the operation documents.
func checkAnswer(in *openapi3filter.RequestValidationInput, reqErr error, resp *http.Response, body []byte, opts *openapi3filter.Options) error {
	req := in.Request
	if reqErr != nil && (resp.StatusCode < 400 || resp.StatusCode > 499) {
		return fmt.Errorf("openapi: %s %s does not match api/openapi.yaml (%v), yet it was answered %d, not a 4xx",
			req.Method, req.URL.Path, reqErr, resp.StatusCode)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		var rerr *openapi3filter.ResponseError
		if errors.As(err, &rerr) && rerr.Reason == "status is not supported" {
			return fmt.Errorf("openapi: %s %s answered %d, which api/openapi.yaml does not list for it: %s",
				req.Method, req.URL.Path, resp.StatusCode, truncate(body))
		}
		return fmt.Errorf("openapi: the %d answer to %s %s does not match api/openapi.yaml: %w: %s",
			resp.StatusCode, req.Method, req.URL.Path, err, truncate(body))
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
