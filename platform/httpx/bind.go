package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"
)

// BindJSON decodes the request body, one JSON value, into v; unknown fields are ignored. On failure it has already answered: 413 when the
// body is over the limit set by NewEngine, 400 for malformed JSON or a field of the wrong type.
func BindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	err := dec.Decode(v)
	if err == nil {
		// One JSON value and nothing after it; reading to the end also enforces the size limit.
		if _, tokErr := dec.Token(); !errors.Is(tokErr, io.EOF) {
			err = tokErr
			if err == nil {
				err = errors.New("unexpected data after the JSON value")
			}
		}
	}
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooLarge):
		Error(c, http.StatusRequestEntityTooLarge, "BODY_TOO_LARGE", fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit))
	case errors.As(err, &typeErr):
		Error(c, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		Error(c, http.StatusBadRequest, "MALFORMED_JSON", "request body is not valid JSON: "+err.Error())
	case errors.Is(err, io.EOF):
		Error(c, http.StatusBadRequest, "MALFORMED_JSON", "request body is empty")
	default:
		Error(c, http.StatusBadRequest, "MALFORMED_JSON", err.Error())
	}
	return false
}
