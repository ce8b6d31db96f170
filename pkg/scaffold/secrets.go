package scaffold

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// DashboardSecrets are the files that protect the proxy's dashboard: the password, kept when
// dir already has one so that running init again does not change it, and the user and
// password in the form the proxy reads (an HAProxy userlist, or an htpasswd line for Traefik).
func DashboardSecrets(dir, proxy string) ([]File, error) {
	password, err := readSecret(dir, DashboardPasswordFile)
	switch {
	case err == nil:
		password = []byte(strings.TrimSpace(string(password)))
	case errors.Is(err, fs.ErrNotExist):
		password = []byte(newPassword())
	default:
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	var users string
	switch proxy {
	case ProxyHAProxy:
		users = "# Who may open HAProxy's statistics page; written by rscale init, shipped as a Swarm secret.\n" +
			"userlist dashboard\n    user " + DashboardUser + " insecure-password " + string(password) + "\n"
	case ProxyTraefik:
		// A salted hash gains nothing over SHA-1 for a random 128-bit password, and {SHA} is
		// one of the forms Traefik's basicAuth reads.
		sum := sha1.Sum(password)
		users = DashboardUser + ":{SHA}" + base64.StdEncoding.EncodeToString(sum[:]) + "\n"
	default:
		return nil, fmt.Errorf("unknown proxy %q", proxy)
	}
	return []File{
		{Path: DashboardPasswordFile, Data: append(password, '\n')},
		{Path: DashboardUsersFile, Data: []byte(users)},
	}, nil
}

// unsafeInPassword are the characters a shell sourcing the password file, or HAProxy reading
// the userlist, would take for something else than the password.
const unsafeInPassword = "$`'\"\\#:"

// checkPassword refuses a password the proxy's file could not hold as it is. The message
// never quotes it.
func checkPassword(password []byte) error {
	bad := len(password) == 0
	for _, r := range string(password) {
		bad = bad || strings.ContainsRune(unsafeInPassword, r) || unicode.IsSpace(r) || !unicode.IsPrint(r)
	}
	if bad {
		return fmt.Errorf("%s: the dashboard's password must be one word without spaces, quotes, backslashes, $, `, # or colons, "+
			"which a shell or HAProxy would read as something else; write one without them, or delete the file and run rscale init again for a new one",
			DashboardPasswordFile)
	}
	return nil
}

// passwordLetters are what a generated password is made of: nothing a shell, HAProxy or a
// URL would interpret, and easy to type.
const passwordLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// passwordLength letters of passwordLetters hold 131 random bits.
const passwordLength = 22

// newPassword draws each letter uniformly: bytes past the last whole multiple of the
// alphabet's size are drawn again, so that no letter is likelier than another.
func newPassword() string {
	limit := byte(256 - 256%len(passwordLetters))
	out := make([]byte, 0, passwordLength)
	buf := make([]byte, 2*passwordLength)
	for len(out) < passwordLength {
		_, _ = rand.Read(buf) // never fails (crypto/rand panics rather than return an error)
		for _, b := range buf {
			if b < limit && len(out) < passwordLength {
				out = append(out, passwordLetters[int(b)%len(passwordLetters)])
			}
		}
	}
	return string(out)
}

// Secret is one secret file init writes, and what writing it does.
type Secret struct {
	File
	Action Action // Created, Updated or Unchanged
}

// PlanSecrets says what writing each file would do, reading what dir has now. It refuses,
// before anything is written, a secret whose path or folder is a link or not a plain file
// or folder: a link could send the password somewhere else, or overwrite another file.
// Secrets stay out of the manifest: the folder's own password is kept.
func PlanSecrets(dir string, files []File) ([]Secret, error) {
	secrets := make([]Secret, 0, len(files))
	for _, f := range files {
		s := Secret{File: f, Action: Created}
		old, err := readSecret(dir, f.Path)
		switch {
		case err == nil && string(old) == string(f.Data):
			s.Action = Unchanged
		case err == nil:
			s.Action = Updated
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}

// WriteSecrets writes the secrets that changed, readable by their owner only. Each goes to
// a new file (O_EXCL, mode 0600) in its folder, renamed over the old one: what is at the path
// is replaced, never written through.
func WriteSecrets(dir string, secrets []Secret) error {
	for _, s := range secrets {
		if s.Action == Unchanged {
			continue
		}
		full := filepath.Join(dir, s.Path)
		if err := checkSecretFolders(dir, s.Path); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return fmt.Errorf("writing %s: %w", s.Path, err)
		}
		// Checked again once the folders exist, and the file too: they may have changed since
		// PlanSecrets.
		if _, err := readSecret(dir, s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		temp, err := writeTemp(full, s.Data, 0o600)
		if err != nil {
			return fmt.Errorf("writing %s: %w", s.Path, err)
		}
		if err := os.Rename(temp, full); err != nil {
			os.Remove(temp)
			return fmt.Errorf("writing %s: %w", s.Path, err)
		}
	}
	return nil
}

// readSecret reads the secret at path in dir without following a link: a path, or a folder
// on the way, that is a link or not a plain file or folder is refused. A missing file gives
// an error that is fs.ErrNotExist.
func readSecret(dir, path string) ([]byte, error) {
	if err := checkSecretFolders(dir, path); err != nil {
		return nil, err
	}
	full := filepath.Join(dir, path)
	before, err := os.Lstat(full)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a file: rscale does not follow it to read or write the dashboard's password; remove it, then run rscale init again", path, kind(before))
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	// Swapped for a link between the check and the open: what was opened is another file.
	if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
		return nil, fmt.Errorf("%s changed while rscale read it: run rscale init again", path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// checkSecretFolders refuses a folder on the way from dir to path that is a link, or not a
// folder; missing ones are fine, MkdirAll makes them.
func checkSecretFolders(dir, path string) error {
	var folders []string
	for parent := filepath.Dir(path); parent != "."; parent = filepath.Dir(parent) {
		folders = append([]string{parent}, folders...)
	}
	for _, folder := range folders {
		info, err := os.Lstat(filepath.Join(dir, folder))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("checking %s: %w", folder, err)
		}
		if !info.IsDir() {
			return fmt.Errorf("%s is %s, not a folder: rscale keeps the dashboard's password only in a real folder, so that it cannot land elsewhere; remove it, then run rscale init again", folder, kind(info))
		}
	}
	return nil
}

// kind names what a path that is not a plain file or folder is, for messages.
func kind(info fs.FileInfo) string {
	switch m := info.Mode(); {
	case m&fs.ModeSymlink != 0:
		return "a link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m.IsDir():
		return "a folder"
	case m.IsRegular():
		return "a file"
	default:
		return "a special file"
	}
}
