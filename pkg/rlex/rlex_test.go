package rlex

import (
	"fmt"
	"strings"
	"testing"
)

// show renders tokens compactly: Kind:Text, newlines as NL.
func show(tokens []Token) string {
	parts := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if t.Kind == Newline {
			parts = append(parts, "NL")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s:%s", t.Kind, t.Text))
	}
	return strings.Join(parts, " ")
}

func TestTokenize(t *testing.T) {
	tests := []struct{ src, want string }{
		{`library(dplyr)`, "Ident:library Op:( Ident:dplyr Op:)"},
		{`x <- "a\"b"`, `Ident:x Op:<- String:a"b`},
		{`'it''s'`, "String:it String:s"},
		{`"tab\there"`, "String:tab\there"},
		{`r"(C:\path)"`, `String:C:\path`},
		{`R"[a]b]"`, "String:a]b"},
		{`r'{x}'`, "String:x"},
		{`r"---(a)"--)---"`, `String:a)"--`},
		{"`my var` <- 1", "Ident:my var Op:<- Number:1"},
		{"x # library(foo)\ny", "Ident:x Comment:# library(foo) NL Ident:y"},
		{"a %>% b %in% c", "Ident:a Op:%>% Ident:b Op:%in% Ident:c"},
		{"a |> f()", "Ident:a Op:|> Ident:f Op:( Op:)"},
		{"pkg::f(); pkg:::g", "Ident:pkg Op::: Ident:f Op:( Op:) Op:; Ident:pkg Op:::: Ident:g"},
		{"1 1L 0x1F 1e-3 .5 2i 3.14", "Number:1 Number:1L Number:0x1F Number:1e-3 Number:.5 Number:2i Number:3.14"},
		{".hidden_var.x <- TRUE", "Ident:.hidden_var.x Op:<- Ident:TRUE"},
		{"x[[1]]", "Ident:x Op:[[ Number:1 Op:] Op:]"},
		{"a -> b; c ->> d; e <<- f", "Ident:a Op:-> Ident:b Op:; Ident:c Op:->> Ident:d Op:; Ident:e Op:<<- Ident:f"},
		{`"unterminated`, "String:unterminated"},
		{"`open", "Ident:open"},
		{"5 % 2", "Number:5 Op:% Number:2"},
		{"\\(x) x + 1", `Op:\ Op:( Ident:x Op:) Ident:x Op:+ Number:1`},
		{"naïve <- 1", "Ident:naïve Op:<- Number:1"},
	}
	for _, tt := range tests {
		if got := show(Tokenize(tt.src)); got != tt.want {
			t.Errorf("Tokenize(%q)\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

func TestTokenizeLines(t *testing.T) {
	src := "a <- \"two\nlines\"\nb <- r\"(x\ny)\"\n# note\nc"
	want := map[string]int{"a": 1, "two\nlines": 1, "b": 3, "x\ny": 3, "# note": 5, "c": 6}
	for _, tok := range Tokenize(src) {
		if line, ok := want[tok.Text]; ok && tok.Line != line {
			t.Errorf("%q on line %d, want %d", tok.Text, tok.Line, line)
		}
	}
}

func FuzzTokenize(f *testing.F) {
	for _, seed := range []string{
		"library(plumber)\n#* @get /echo\nfunction(msg = \"\") list(msg = msg)\n",
		`r"---(unterminated`, "`", `"\`, "'", "%", "%%", "0x", "1e", "1e+", ".", "..1", "r\"", "R'-",
		"\xff\xfe invalid utf8 \xc3", "x <- \\(y) y |> f() %>% g",
		"pacman::p_load(a, \"b\", install = FALSE)\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		line := 1
		for _, tok := range Tokenize(src) {
			if tok.Line < line {
				t.Fatalf("token %+v goes back from line %d", tok, line)
			}
			line = tok.Line
		}
	})
}
