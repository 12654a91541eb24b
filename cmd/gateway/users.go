package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/ipas/ipas/authz"
	"github.com/ipas/ipas/internal/humanize"
	"github.com/ipas/ipas/queue"
	"github.com/ipas/ipas/replication"
	"github.com/ipas/ipas/users"
)

// UsersKeyFile is the name, under the data directory, of the key that seals
// the secrets of users' access keys in the journal (mode 0600).
const UsersKeyFile = "users.key"

// loadOrCreateSealKey returns the data directory's seal key, creating it on
// first use.
func loadOrCreateSealKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, UsersKeyFile)
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(key) != users.SealKeySize {
			return nil, fmt.Errorf("%s: not a seal key (%d hex bytes); restore it from a backup: without it the access keys of users cannot be used", path, users.SealKeySize)
		}
		return key, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("seal key %s: %w", path, err)
	}
	key := make([]byte, users.SealKeySize)
	rand.Read(key)
	if err := writeFileAtomic(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("seal key %s: %w", path, err)
	}
	return key, nil
}

// openDirectory returns the users directory of the daemon: the journal's
// users and keys, and the configured credentials as the built-in admin's.
func openDirectory(cfg Config, dataDir string, node *queue.Node, log zerolog.Logger) (*users.Directory, error) {
	sealer, err := dataSealer(dataDir)
	if err != nil {
		return nil, err
	}
	builtin := map[string]string{}
	for _, c := range cfg.S3.Credentials {
		builtin[c.AccessKey] = c.SecretKey
	}
	return users.New(node, sealer, builtin, log), nil
}

// parseQuota reads a quota: a size ("50GiB", "500MB", bytes) or "none".
func parseQuota(s string) (int64, error) {
	if v := strings.ToLower(strings.TrimSpace(s)); v == "none" || v == "0" {
		return 0, nil
	}
	n, err := replication.ParseRate(s)
	if err != nil || n == replication.Unlimited || strings.Contains(s, "/") {
		return 0, fmt.Errorf("quota %q: write a size such as 50GiB or 500MB, or none", s)
	}
	return n, nil
}

// isAdmin reports whether an access key is an admin's.
func isAdmin(dir *users.Directory) func(string) bool {
	return func(ak string) bool {
		p, ok := dir.Principal(ak)
		return ok && p.Role == authz.RoleAdmin
	}
}

const userUsage = `Usage:
  gateway user add NAME [--role admin|user|readonly] [--json]   create a user and their first access key
  gateway user list [--json]
  gateway user remove NAME                                       delete a user and their keys (their buckets stay)
  gateway user disable NAME [--enable]                           refuse (or accept again) a user's keys
  gateway user quota NAME SIZE|none                              bound the bytes in a user's buckets (also: user add --quota SIZE)
  gateway key add USER [--access full|read|write] [--scope BUCKET[/PREFIX]]... [--json]
  gateway key list [--user USER] [--json]
  gateway key revoke ACCESS_KEY
  gateway key rotate ACCESS_KEY [--json]                         replace a key with a new one, same limits
Each talks to the running daemon through the admin API, with an admin credential
(the same --config/--data-dir/--s3-addr flags as serve, or --endpoint URL).
`

// scopeFlags collects repeated --scope flags.
type scopeFlags []string

func (s *scopeFlags) String() string     { return strings.Join(*s, ",") }
func (s *scopeFlags) Set(v string) error { *s = append(*s, v); return nil }

// parseWithName parses flags that may come before or after one positional
// argument (NAME), which it returns; want says whether one is needed.
func parseWithName(fs *flag.FlagSet, args []string, want bool) (string, error) {
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	nargs := 0
	if want && name == "" {
		nargs = 1
	}
	if err := parseFlags(fs, args, nargs); err != nil {
		return "", err
	}
	if nargs == 1 {
		name = fs.Arg(0)
	}
	if !want && name != "" {
		fmt.Fprintf(fs.Output(), "%s takes no argument, got %q\n", fs.Name(), name)
		return "", errUsage
	}
	return name, nil
}

// runUsers runs `gateway user ...` and `gateway key ...`.
func runUsers(cmd string, args []string, stdout, stderr io.Writer) error {
	actions := map[string][]string{"user": {"add", "list", "remove", "disable", "quota"}, "key": {"add", "list", "revoke", "rotate"}}
	if len(args) == 0 || !slices.Contains(actions[cmd], args[0]) {
		fmt.Fprint(stderr, userUsage)
		return errUsage
	}
	action := args[0]
	fs := flag.NewFlagSet(cmd+" "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf controlFlags
	cf.register(fs)
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	role := fs.String("role", string(authz.RoleUser), "the user's `role`: admin, user or readonly")
	enable := fs.Bool("enable", false, "enable the user again")
	access := fs.String("access", string(authz.AccessFull), "what the key may do: full, read, or write (no delete, no overwrite)")
	user := fs.String("user", "", "list only this `user`'s keys")
	quotaFlag := fs.String("quota", "", "the user's storage quota: a `SIZE` such as 50GiB, or none")
	var scopes scopeFlags
	fs.Var(&scopes, "scope", "limit the key to a `BUCKET[/PREFIX]` (repeatable)")
	rest := args[1:]
	if action == "quota" { // user quota NAME SIZE [flags]
		if len(rest) < 2 || strings.HasPrefix(rest[1], "-") {
			fmt.Fprint(stderr, userUsage)
			return errUsage
		}
		*quotaFlag, rest = rest[1], append([]string{rest[0]}, rest[2:]...)
	}
	name, err := parseWithName(fs, rest, action != "list")
	if err != nil {
		return err
	}
	var quota int64
	if *quotaFlag != "" {
		if quota, err = parseQuota(*quotaFlag); err != nil {
			return err
		}
	}
	c, endpoint, err := cf.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	var out any
	msg := ""
	switch cmd + " " + action {
	case "user add":
		var cred users.Credential
		cred, err = c.AddUser(ctx, name, *role)
		if err == nil && quota > 0 {
			err = c.SetUserQuota(ctx, name, quota)
		}
		out = cred
	case "user quota":
		err, msg = c.SetUserQuota(ctx, name, quota), fmt.Sprintf("quota of %s set to %s", name, *quotaFlag)
	case "user list":
		out, err = c.Users(ctx)
	case "user remove":
		err, msg = c.RemoveUser(ctx, name), "user "+name+" removed"
	case "user disable":
		err, msg = c.SetUserDisabled(ctx, name, !*enable), "user "+name+" disabled"
		if *enable {
			msg = "user " + name + " enabled"
		}
	case "key add":
		out, err = c.AddKey(ctx, name, users.KeySpec{Access: *access, Scopes: scopes})
	case "key list":
		out, err = c.Keys(ctx, *user)
	case "key revoke":
		err, msg = c.RevokeKey(ctx, name), "access key "+name+" revoked"
	case "key rotate":
		out, err = c.RotateKey(ctx, name)
	}
	if err != nil {
		return explain(err, endpoint)
	}
	switch {
	case msg != "":
		fmt.Fprintln(stdout, msg)
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	default:
		printUsers(stdout, out)
	}
	return nil
}

func printUsers(w io.Writer, out any) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	switch v := out.(type) {
	case users.Credential:
		fmt.Fprintf(tw, "user:\t%s\naccess key:\t%s\nsecret key:\t%s\n", v.User, v.AccessKey, v.SecretKey)
		fmt.Fprintln(tw, "This is the only time the secret is shown.")
	case []users.UserInfo:
		fmt.Fprintln(tw, "USER\tROLE\tKEYS\tUSED\tQUOTA\tSTATE")
		for _, u := range v {
			state := "enabled"
			switch {
			case u.Builtin:
				state = "built-in (config file, environment, first start)"
			case u.Disabled:
				state = "disabled"
			}
			quota := "-"
			if u.Quota > 0 {
				quota = humanize.Bytes(u.Quota)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", u.Name, u.Role, u.Keys, humanize.Bytes(u.Used), quota, state)
		}
	case []users.KeyInfo:
		fmt.Fprintln(tw, "ACCESS KEY\tUSER\tACCESS\tSCOPES")
		for _, k := range v {
			sc := strings.Join(k.Scopes, ",")
			if sc == "" {
				sc = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.AccessKey, k.User, k.Access, sc)
		}
	}
}
