package plumber

import (
	"strings"

	"github.com/rscale/rscale/pkg/rlex"
)

// This file turns rlex tokens into a small syntax tree: just enough of R's grammar to
// see calls, pipes, assignments and member access in an entrypoint.R, and to never
// mistake a call inside a comment or a string for a real one. It never fails:
// tokens it cannot place are skipped.

type nodeKind int

const (
	nName   nodeKind = iota // a name; text holds it
	nString                 // a string literal; text holds its value
	nCall                   // fn(args)
	nBinary                 // kids[0] text kids[1]: operators, $, @ and ::
	nBlock                  // ( ) or { }: its value is the value of its last kid
	nOther                  // anything else; kids are the expressions inside it
)

type node struct {
	kind nodeKind
	text string
	line int
	kids []*node
	fn   *node // the callee of an nCall
	args []arg // the arguments of an nCall
}

// arg is one argument of a call; value is nil for an empty one, as in f(a, , b).
type arg struct {
	name  string
	value *node
}

type parser struct {
	toks []rlex.Token
	pos  int
	// inGroup says, innermost last, whether each open ( or { ignores newlines,
	// as R does inside parentheses but not braces.
	inGroup []bool
}

// parseR parses R source into its top-level expressions.
func parseR(src string) []*node {
	var toks []rlex.Token
	for _, t := range rlex.Tokenize(src) {
		if t.Kind != rlex.Comment {
			toks = append(toks, t)
		}
	}
	p := &parser{toks: toks}
	return p.statements("")
}

// peek returns the next significant token, or nil at the end.
func (p *parser) peek() *rlex.Token { return p.peekAt(0) }

// peekAt looks k significant tokens ahead.
func (p *parser) peekAt(k int) *rlex.Token {
	if i := p.index(k); i < len(p.toks) {
		return &p.toks[i]
	}
	return nil
}

// index is the position of the significant token k ahead: newlines do not count
// inside ( and [, where R ignores them.
func (p *parser) index(k int) int {
	skipNL := len(p.inGroup) > 0 && p.inGroup[len(p.inGroup)-1]
	i := p.pos
	for ; i < len(p.toks); i++ {
		if skipNL && p.toks[i].Kind == rlex.Newline {
			continue
		}
		if k == 0 {
			break
		}
		k--
	}
	return i
}

// next consumes the token peek would return.
func (p *parser) next() {
	p.pos = min(p.index(0)+1, len(p.toks))
}

func (p *parser) skipNewlines() {
	for p.pos < len(p.toks) && p.toks[p.pos].Kind == rlex.Newline {
		p.pos++
	}
}

func isOp(t *rlex.Token, text string) bool {
	return t != nil && t.Kind == rlex.Op && t.Text == text
}

// statements parses expressions separated by newlines or ";" up to closer ("" for the end of input).
func (p *parser) statements(closer string) []*node {
	var out []*node
	for {
		for p.pos < len(p.toks) && (p.toks[p.pos].Kind == rlex.Newline || isOp(&p.toks[p.pos], ";")) {
			p.pos++
		}
		t := p.peek()
		if t == nil || (closer != "" && isOp(t, closer)) {
			return out
		}
		start := p.pos
		if n := p.expr(0); n != nil {
			out = append(out, n)
		}
		if p.pos == start {
			p.pos++ // a token no expression can start with, such as a stray ")"
		}
	}
}

// Binding powers of R's operators, lowest first, following R's ?Syntax.
const (
	bpHelp    = 1
	bpEq      = 2 // = as assignment
	bpLeft    = 3 // <- <<-
	bpRight   = 4 // -> ->>
	bpTilde   = 5
	bpOr      = 6
	bpAnd     = 7
	bpNot     = 8
	bpCmp     = 9
	bpAdd     = 10
	bpMul     = 11
	bpSpecial = 12 // %any% and |>
	bpRange   = 13
	bpUnary   = 14
	bpPow     = 15
)

// infix returns the binding power of a binary operator and whether it groups to the right.
func infix(op string) (bp int, right, ok bool) {
	switch op {
	case "?":
		return bpHelp, false, true
	case "=":
		return bpEq, true, true
	case "<-", "<<-":
		return bpLeft, true, true
	case "->", "->>":
		return bpRight, false, true
	case "~":
		return bpTilde, false, true
	case "||", "|":
		return bpOr, false, true
	case "&&", "&":
		return bpAnd, false, true
	case "==", "!=", "<", ">", "<=", ">=":
		return bpCmp, false, true
	case "+", "-":
		return bpAdd, false, true
	case "*", "/":
		return bpMul, false, true
	case "|>":
		return bpSpecial, false, true
	case ":":
		return bpRange, false, true
	case "^":
		return bpPow, true, true
	}
	if len(op) >= 2 && op[0] == '%' && op[len(op)-1] == '%' {
		return bpSpecial, false, true
	}
	return 0, false, false
}

// expr parses an expression whose operators bind at least as tightly as minBP.
func (p *parser) expr(minBP int) *node {
	lhs := p.unary()
	if lhs == nil {
		return nil
	}
	for {
		t := p.peek()
		if t == nil || t.Kind != rlex.Op {
			return lhs
		}
		bp, right, ok := infix(t.Text)
		if !ok || bp < minBP {
			return lhs
		}
		p.next()
		p.skipNewlines() // R continues an expression after a binary operator
		nextMin := bp + 1
		if right {
			nextMin = bp
		}
		lhs = &node{kind: nBinary, text: t.Text, line: lhs.line, kids: []*node{lhs, p.expr(nextMin)}}
	}
}

func (p *parser) unary() *node {
	t := p.peek()
	if t == nil {
		return nil
	}
	if t.Kind == rlex.Op {
		bp := 0
		switch t.Text {
		case "-", "+":
			bp = bpUnary
		case "!":
			bp = bpNot
		case "~":
			bp = bpTilde
		case "?":
			bp = bpHelp
		}
		if bp > 0 {
			p.next()
			p.skipNewlines()
			return &node{kind: nOther, line: t.Line, kids: []*node{p.expr(bp)}}
		}
	}
	return p.postfix(p.primary())
}

func (p *parser) primary() *node {
	t := p.peek()
	if t == nil {
		return nil
	}
	switch t.Kind {
	case rlex.Ident:
		p.next()
		switch t.Text {
		case "function":
			return p.function(t.Line)
		case "if", "for", "while":
			return p.control(t)
		case "repeat":
			p.skipNewlines()
			return &node{kind: nOther, line: t.Line, kids: []*node{p.expr(0)}}
		}
		return &node{kind: nName, text: t.Text, line: t.Line}
	case rlex.String:
		p.next()
		return &node{kind: nString, text: t.Text, line: t.Line}
	case rlex.Op:
		switch t.Text {
		case "(":
			p.next()
			p.inGroup = append(p.inGroup, true)
			inner := p.expr(0)
			p.closeGroup(")")
			return &node{kind: nBlock, line: t.Line, kids: []*node{inner}}
		case "{":
			p.next()
			p.inGroup = append(p.inGroup, false)
			stmts := p.statements("}")
			p.closeGroup("}")
			return &node{kind: nBlock, line: t.Line, kids: stmts}
		case `\`: // R 4.1's lambda shorthand, \(x) x + 1
			p.next()
			return p.function(t.Line)
		case ")", "}", ",", ";":
			return nil // the caller's to consume
		}
		if isBrackets(t.Text, ']') {
			return nil
		}
	case rlex.Newline:
		return nil
	}
	p.next()
	return &node{kind: nOther, line: t.Line}
}

// closeGroup pops the innermost group and consumes its closer, skipping whatever
// the parser could not place before it.
func (p *parser) closeGroup(closer string) {
	for {
		t := p.peek()
		if t == nil {
			break
		}
		if isOp(t, closer) {
			p.next()
			break
		}
		start := p.pos
		p.expr(0)
		if p.pos == start {
			p.next()
		}
	}
	p.inGroup = p.inGroup[:len(p.inGroup)-1]
}

func (p *parser) postfix(n *node) *node {
	for n != nil {
		t := p.peek()
		if t == nil || t.Kind != rlex.Op {
			return n
		}
		switch {
		case t.Text == "(":
			p.next()
			n = &node{kind: nCall, line: n.line, fn: n, args: p.args()}
		case t.Text == "$" || t.Text == "@" || t.Text == "::" || t.Text == ":::":
			p.next()
			var member *node
			if m := p.peek(); m != nil && (m.Kind == rlex.Ident || m.Kind == rlex.String) {
				p.next()
				member = &node{kind: nName, text: m.Text, line: m.Line}
			}
			n = &node{kind: nBinary, text: t.Text, line: n.line, kids: []*node{n, member}}
		case isBrackets(t.Text, '['):
			// What is inside x[...] never names a router or a route, so it is skipped whole.
			p.skipBrackets()
			n = &node{kind: nOther, line: n.line, kids: []*node{n}}
		default:
			return n
		}
	}
	return n
}

// args parses call arguments after "(" up to and including the closing ")".
func (p *parser) args() []arg {
	p.inGroup = append(p.inGroup, true)
	defer func() { p.inGroup = p.inGroup[:len(p.inGroup)-1] }()
	var out []arg
	for {
		t := p.peek()
		if t == nil {
			return out
		}
		if isOp(t, ")") {
			p.next()
			return out
		}
		if isOp(t, ",") {
			p.next()
			out = append(out, arg{}) // an empty argument, as in f(a, , b)
			continue
		}
		var a arg
		if (t.Kind == rlex.Ident || t.Kind == rlex.String) && isOp(p.peekAt(1), "=") {
			a.name = t.Text
			p.next()
			p.next()
		}
		start := p.pos
		if next := p.peek(); !isOp(next, ",") && !isOp(next, ")") {
			a.value = p.expr(bpEq + 1) // "=" here names an argument; it is not an assignment
		}
		if a.name == "" && p.pos == start {
			p.next() // nothing can start with this token
			continue
		}
		out = append(out, a)
		if isOp(p.peek(), ",") {
			p.next()
		}
	}
}

// function parses a function literal after its keyword: formals, then the body.
func (p *parser) function(line int) *node {
	n := &node{kind: nOther, line: line}
	if !isOp(p.peek(), "(") {
		return n
	}
	p.next()
	for _, a := range p.args() {
		n.kids = append(n.kids, a.value)
	}
	p.skipNewlines()
	n.kids = append(n.kids, p.expr(0))
	return n
}

// control parses if, for and while after their keyword.
func (p *parser) control(kw *rlex.Token) *node {
	n := &node{kind: nOther, line: kw.Line}
	if !isOp(p.peek(), "(") {
		return &node{kind: nName, text: kw.Text, line: kw.Line}
	}
	p.next()
	p.inGroup = append(p.inGroup, true)
	for {
		t := p.peek()
		if t == nil || isOp(t, ")") {
			break
		}
		start := p.pos
		n.kids = append(n.kids, p.expr(0)) // "for (x in xs)" reads as three names here
		if p.pos == start {
			p.next()
		}
	}
	p.closeGroup(")")
	p.skipNewlines()
	n.kids = append(n.kids, p.expr(0))
	if kw.Text == "if" {
		save := p.pos
		p.skipNewlines()
		if t := p.peek(); t != nil && t.Kind == rlex.Ident && t.Text == "else" {
			p.next()
			p.skipNewlines()
			n.kids = append(n.kids, p.expr(0))
		} else {
			p.pos = save
		}
	}
	return n
}

// isBrackets reports whether an operator token is made only of the bracket b,
// whichever way the tokenizer groups "[[" and "]]".
func isBrackets(text string, b byte) bool {
	return text != "" && strings.Trim(text, string(b)) == ""
}

// skipBrackets consumes an index expression, x[...] or x[[...]], counting brackets one by one.
func (p *parser) skipBrackets() {
	depth := 0
	for p.pos < len(p.toks) {
		t := p.toks[p.pos]
		p.pos++
		if t.Kind != rlex.Op {
			continue
		}
		if isBrackets(t.Text, '[') {
			depth += len(t.Text)
		} else if isBrackets(t.Text, ']') {
			depth -= len(t.Text)
		}
		if depth <= 0 {
			return
		}
	}
}
