// Package api holds EDM Shop's machine-readable contracts: the OpenAPI 3.1 document of every
// program's HTTP API and the AsyncAPI 3.0 document of the saga's topics and events. order-service
// serves both (GET /openapi.yaml, GET /asyncapi.yaml) and the end-to-end tests check real traffic
// against them, so the files cannot drift from the code unnoticed.
package api

import _ "embed"

// OpenAPI is openapi.yaml: every HTTP endpoint of order-service, inventory-service,
// payment-service and the payment gateway simulator, with every answer each can give.
//
//go:embed openapi.yaml
var OpenAPI []byte

// AsyncAPI is asyncapi.yaml: each topic, each event type with its CloudEvents headers and the
// JSON Schema of its payload.
//
//go:embed asyncapi.yaml
var AsyncAPI []byte
