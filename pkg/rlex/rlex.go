// Package rlex splits R source into tokens: enough of R's grammar to tell code from comments
// and strings, which is all rscale's readers of R need. It never fails: R that does not parse
// still yields tokens, so a half-written file is read as far as it goes.
package rlex

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the kind of a token.
type Kind int

const (
	Ident   Kind = iota // a name, a keyword, or a `backtick name` (Text without the backticks)
	String              // a string; Text is its value, escapes decoded
	Number              // 1, 1L, 0x1F, 1e-3, .5, 2i
	Op                  // an operator or punctuation; %op% and [[ are one token each, ]] is two
	Comment             // Text is the whole comment, from its '#'
	Newline
)

func (k Kind) String() string {
	switch k {
	case Ident:
		return "Ident"
	case String:
		return "String"
	case Number:
		return "Number"
	case Op:
		return "Op"
	case Comment:
		return "Comment"
	case Newline:
		return "Newline"
	}
	return "Kind(?)"
}

// Token is one token and the line it starts on, counting from 1.
type Token struct {
	Kind Kind
	Text string
	Line int
}

// operators, longest first so the longest match wins.
var operators = []string{
	"<<-", "->>", ":::", "|>", "<-", "->", "::", "==", "!=", "<=", ">=", "&&", "||", "[[",
	"(", ")", "[", "]", "{", "}", ",", ";", "$", "@", "=", "<", ">", "!", "&", "|", "~", "?",
	"+", "-", "*", "/", "^", ":", "\\",
}

// Tokenize splits src into tokens.
func Tokenize(src string) []Token {
	l := lexer{src: src, line: 1}
	for l.pos < len(l.src) {
		l.next()
	}
	return l.tokens
}

type lexer struct {
	src    string
	pos    int
	line   int
	tokens []Token
}

func (l *lexer) emit(k Kind, text string, line int) {
	l.tokens = append(l.tokens, Token{Kind: k, Text: text, Line: line})
}

func (l *lexer) next() {
	c := l.src[l.pos]
	start, line := l.pos, l.line
	switch {
	case c == '\n':
		l.pos++
		l.emit(Newline, "\n", line)
		l.line++
	case c == ' ' || c == '\t' || c == '\r' || c == '\f':
		l.pos++
	case c == '#':
		end := strings.IndexByte(l.src[l.pos:], '\n')
		if end < 0 {
			end = len(l.src) - l.pos
		}
		l.pos += end
		l.emit(Comment, l.src[start:l.pos], line)
	case (c == 'r' || c == 'R') && l.rawStringAhead():
		l.rawString()
	case c == '"' || c == '\'':
		l.quoted(c)
	case c == '`':
		l.backtick()
	case isDigit(c) || (c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1])):
		l.number()
	case c == '%':
		end := strings.IndexAny(l.src[l.pos+1:], "%\n")
		if end < 0 || l.src[l.pos+1+end] == '\n' {
			l.pos++
			l.emit(Op, "%", line)
			return
		}
		l.pos += end + 2
		l.emit(Op, l.src[start:l.pos], line)
	case isIdentStart(l.src[l.pos:]):
		for l.pos < len(l.src) && isIdentPart(l.src[l.pos:]) {
			_, size := utf8.DecodeRuneInString(l.src[l.pos:])
			l.pos += size
		}
		l.emit(Ident, l.src[start:l.pos], line)
	default:
		for _, op := range operators {
			if strings.HasPrefix(l.src[l.pos:], op) {
				l.pos += len(op)
				l.emit(Op, op, line)
				return
			}
		}
		// Anything else (a stray byte, a symbol R does not know) is one Op of one character.
		_, size := utf8.DecodeRuneInString(l.src[l.pos:])
		l.pos += size
		l.emit(Op, l.src[start:l.pos], line)
	}
}

// rawStringAhead reports whether r"(...)" or a variant with [], {} and dashes starts here.
func (l *lexer) rawStringAhead() bool {
	i := l.pos + 1
	if i >= len(l.src) || (l.src[i] != '"' && l.src[i] != '\'') {
		return false
	}
	i++
	for i < len(l.src) && l.src[i] == '-' {
		i++
	}
	return i < len(l.src) && strings.IndexByte("([{", l.src[i]) >= 0
}

func (l *lexer) rawString() {
	line := l.line
	quote := l.src[l.pos+1]
	i := l.pos + 2
	dashes := 0
	for l.src[i] == '-' {
		dashes++
		i++
	}
	closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}[l.src[i]]
	terminator := string(closer) + strings.Repeat("-", dashes) + string(quote)
	body := i + 1
	end := strings.Index(l.src[body:], terminator)
	var text string
	if end < 0 {
		text = l.src[body:]
		l.pos = len(l.src)
	} else {
		text = l.src[body : body+end]
		l.pos = body + end + len(terminator)
	}
	l.line += strings.Count(l.src[body-1:l.pos], "\n")
	l.emit(String, text, line)
}

func (l *lexer) quoted(quote byte) {
	line := l.line
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == quote:
			l.pos++
			l.emit(String, b.String(), line)
			return
		case c == '\\' && l.pos+1 < len(l.src):
			b.WriteString(unescape(l.src[l.pos+1]))
			if l.src[l.pos+1] == '\n' {
				l.line++
			}
			l.pos += 2
		default:
			if c == '\n' {
				l.line++
			}
			b.WriteByte(c)
			l.pos++
		}
	}
	l.emit(String, b.String(), line) // unterminated: the string runs to the end
}

func unescape(c byte) string {
	switch c {
	case 'n':
		return "\n"
	case 't':
		return "\t"
	case 'r':
		return "\r"
	case '0':
		return "\x00"
	}
	// \" \' \\ and escapes rscale has no use for (\x41, \u00e9) keep their character.
	return string(c)
}

func (l *lexer) backtick() {
	line := l.line
	end := strings.IndexByte(l.src[l.pos+1:], '`')
	var name string
	if end < 0 {
		name = l.src[l.pos+1:]
		l.pos = len(l.src)
	} else {
		name = l.src[l.pos+1 : l.pos+1+end]
		l.pos += end + 2
	}
	l.line += strings.Count(name, "\n")
	l.emit(Ident, name, line)
}

func (l *lexer) number() {
	start := l.pos
	if strings.HasPrefix(l.src[l.pos:], "0x") || strings.HasPrefix(l.src[l.pos:], "0X") {
		l.pos += 2
		for l.pos < len(l.src) && isHex(l.src[l.pos]) {
			l.pos++
		}
	} else {
		for l.pos < len(l.src) && (isDigit(l.src[l.pos]) || l.src[l.pos] == '.') {
			l.pos++
		}
		if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
			l.pos++
			if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
				l.pos++
			}
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'L' || l.src[l.pos] == 'i') {
		l.pos++
	}
	l.emit(Number, l.src[start:l.pos], l.line)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// isIdentStart: R names start with a letter or a dot (a dot not followed by a digit, which
// the caller has already taken as a number).
func isIdentStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '.' || (r != utf8.RuneError && unicode.IsLetter(r))
}

func isIdentPart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '.' || r == '_' || (r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)))
}
