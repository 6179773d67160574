// Package schema embeds the SQL files that create inventory-service's tables and seed its
// catalogue: mysql/ (also mounted into the MySQL container's /docker-entrypoint-initdb.d) and
// sqlite/ (the in-process sandbox). The service applies them at every start; each is idempotent.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

//go:embed mysql/*.sql sqlite/*.sql
var files embed.FS

// Statements returns the statements of the dialect's files ("mysql" or "sqlite"), in file-name
// order. Lines starting with "--" are dropped and a statement ends at a ';' that ends a line.
func Statements(dialect string) ([]string, error) {
	names, err := fs.Glob(files, dialect+"/*.sql")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no schema files for dialect %q", dialect)
	}
	var stmts []string
	for _, name := range names { // fs.Glob returns names sorted
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var cur strings.Builder
		for line := range strings.Lines(string(data)) {
			trimmed := strings.TrimSpace(line)
			if trimmed == "" || strings.HasPrefix(trimmed, "--") {
				continue
			}
			cur.WriteString(line)
			if strings.HasSuffix(trimmed, ";") {
				stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
				cur.Reset()
			}
		}
		if rest := strings.TrimSpace(cur.String()); rest != "" {
			return nil, fmt.Errorf("%s: statement without a final ';': %.40q", name, rest)
		}
	}
	return stmts, nil
}
