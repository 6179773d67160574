package bootstrap

import (
	"context"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/edmshop/edm-shop/platform/httpx"
)

// pprofServer serves Go's profiles (net/http/pprof) on addr, a listener of its own rather than
// a route of the service's API, so that profiling is reachable only where an operator put it
// (PPROF_ADDR, e.g. 127.0.0.1:6061) and never from the public port.
func pprofServer(addr string) func(ctx context.Context) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return func(ctx context.Context) error {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		return httpx.ServeListener(ctx, l, mux)
	}
}
