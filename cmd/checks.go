package cmd

import (
	"fmt"
	"strconv"
	"time"

	timetypes "github.com/docker/docker/api/types/time"
)

// The checks below refuse a flag's value before any file is read or engine called, each as
// a usage error that says what to give instead.

func checkPositive(flag string, d time.Duration, example string) error {
	if d <= 0 {
		return usageError{fmt.Errorf("%s %s: give a duration of more than 0, such as %s", flag, d, example)}
	}
	return nil
}

func checkBatch(n int) error {
	if n < 0 {
		return usageError{fmt.Errorf("--batch %d: give how many replicas to start at a time, 1 or more (0 or no --batch: 8 per CPU)", n)}
	}
	return nil
}

func checkTail(tail string) error {
	if tail == "all" {
		return nil
	}
	if n, err := strconv.Atoi(tail); err != nil || n < 0 {
		return usageError{fmt.Errorf("--tail %q: give a number of lines, 0 or more, or all", tail)}
	}
	return nil
}

// checkSince accepts what docker logs --since does: a duration back from now, a timestamp,
// or Unix seconds.
func checkSince(since string) error {
	if since == "" {
		return nil
	}
	if d, err := time.ParseDuration(since); err == nil && d <= 0 {
		return usageError{fmt.Errorf("--since %s: give how long back, such as 10m, or a time such as 2024-06-03T10:00:00", since)}
	}
	if _, err := timetypes.GetTimestamp(since, time.Now()); err != nil {
		return usageError{fmt.Errorf("--since %q: give how long back, such as 10m, or a time such as 2024-06-03T10:00:00 (%v)", since, err)}
	}
	return nil
}

// firstError is the first of errs that is not nil.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
