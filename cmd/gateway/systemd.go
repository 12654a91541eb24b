package main

import (
	"context"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// systemd is the service manager's side of the daemon under Type=notify:
// READY=1 once every endpoint serves, RELOADING=1 around a SIGHUP, STOPPING=1
// at shutdown, and a watchdog ping every half WATCHDOG_USEC while the journal
// and the store are healthy. Without NOTIFY_SOCKET every call does nothing.
type systemd struct {
	log zerolog.Logger
}

func (s systemd) notify(state string) {
	sent, err := daemon.SdNotify(false, state)
	switch {
	case err != nil:
		s.log.Warn().Err(err).Str("state", state).Msg("systemd notification not sent")
	case sent:
		s.log.Debug().Str("state", state).Msg("systemd notified")
	}
}

func (s systemd) ready() { s.notify(daemon.SdNotifyReady) }

func (s systemd) stopping() { s.notify(daemon.SdNotifyStopping) }

// reloading brackets a reload, as sd_notify(3) asks: RELOADING=1 with the
// monotonic time, then READY=1 once it is done.
func (s systemd) reloading(reload func()) {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	s.notify(fmt.Sprintf("%s\nMONOTONIC_USEC=%d", daemon.SdNotifyReloading, ts.Nano()/1000))
	reload()
	s.ready()
}

// watchdog pings systemd until ctx ends, when the unit has WatchdogSec (and
// so WATCHDOG_USEC) set, each time healthy passes: a daemon whose journal
// closed or whose disk went read-only stops pinging and is restarted.
func (s systemd) watchdog(ctx context.Context, healthy func(ctx context.Context) error) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		s.log.Warn().Err(err).Msg("systemd watchdog: WATCHDOG_USEC unreadable; not pinging")
		return
	}
	if interval <= 0 {
		return
	}
	s.log.Info().Dur("timeout", interval).Msg("systemd watchdog on: pinging while the journal and the store are healthy")
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	failing := false
	for {
		cctx, cancel := context.WithTimeout(ctx, interval/2)
		err := healthy(cctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			s.log.Error().Err(err).Msg("unhealthy: systemd watchdog pings stop, so systemd restarts the daemon unless this clears")
		case err == nil:
			if failing {
				failing = false
				s.log.Info().Msg("healthy again: systemd watchdog pings resume")
			}
			s.notify(daemon.SdNotifyWatchdog)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
