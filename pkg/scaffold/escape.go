package scaffold

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// rstring writes s as an R string literal. R reads the escapes strconv.QuoteToASCII writes
// (\" \\ \uXXXX \UXXXXXXXX), so the literal stands for s whatever the locale R runs in.
// Control characters are refused rather than escaped: R refuses "\x00", and a line break
// or a tab in a path or a package name is a mistake to report, not a value to keep.
func rstring(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not UTF-8 text, which rscale will not write into R code", s)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%q holds a control character (such as a tab or a line break), which rscale will not write into R code: remove it", s)
	}
	return strconv.QuoteToASCII(s), nil
}

// rlist writes strings as the arguments of an R c(...) call.
func rlist(items []string) (string, error) {
	quoted := make([]string, len(items))
	for i, s := range items {
		var err error
		if quoted[i], err = rstring(s); err != nil {
			return "", err
		}
	}
	return strings.Join(quoted, ", "), nil
}

// dockerword checks a value the Dockerfile holds unquoted: in ENV and FROM, Docker reads
// whitespace, quotes, backslashes and $ as syntax, and a line break starts a new instruction.
// Such a value is refused; the options' checks say which flag to fix before it comes here.
func dockerword(s string) (string, error) {
	if s == "" || strings.ContainsAny(s, "$\"'`\\") || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", fmt.Errorf("%q cannot be written into the Dockerfile as it is: it is empty or holds a space, a quote, a backslash or a $", s)
	}
	return s, nil
}

// urlPath are the characters --health-path takes: a URL path's (RFC 3986), less the quotes,
// $ and the characters a shell, R or a Dockerfile would read as something else.
var urlPath = regexp.MustCompile(`^/[A-Za-z0-9._~!&()*+,;=:@%/-]*$`)

// checkHealthPath refuses a --health-path that is not a plain URL path.
func checkHealthPath(path string) error {
	if !urlPath.MatchString(path) {
		return fmt.Errorf("--health-path %q: give a plain URL path starting with /, such as /healthz: letters, digits and - . _ ~ / (no spaces, quotes, backslashes, $, ? or #)", path)
	}
	return nil
}
