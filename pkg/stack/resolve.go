package stack

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
)

// Stack is a stack file resolved once per command and handed down: read, named, and its
// x-rscale block decoded.
type Stack struct {
	File    string // the stack file's path, as the command was given it
	Name    string
	Project *types.Project
	Ext     Extension
}

// Resolve reads the stack file and decides its name (as Open does), and decodes its
// x-rscale block.
func Resolve(ctx context.Context, file, name string) (*Stack, error) {
	p, name, err := Open(ctx, file, name)
	if err != nil {
		return nil, err
	}
	ext, err := ReadExtension(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Stack{File: file, Name: name, Project: p, Ext: ext}, nil
}
