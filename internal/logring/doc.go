// Package logring keeps the daemon's most recent log lines in memory, for
// the admin API and the web console to show: a zerolog writer that parses
// each JSON line as it is written and keeps a bounded number of them. It
// holds only what the logger wrote, and the logger never writes a secret.
package logring
