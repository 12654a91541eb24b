// Package deploy holds what installs IPAS on machines: the Ansible playbook and role
// under ansible/, and the tests (build tag ansible) that apply them to a real Debian
// root with systemd booted in it, and that smoke-test the release builds of
// scripts/release. The package has no code of its own.
package deploy
