package procs

import (
	"context"
	"os/user"
	"strconv"

	"github.com/shirou/gopsutil/v3/process"

	"github.com/porttop/porttop/internal/snapshot"
)

// processCache remembers processes by pid and start time, so a process's
// name, user, command line and namespace are read once, not on every
// refresh; a reused pid has another start time and is read afresh.
type processCache struct {
	byPid map[int32]cachedProcess
	users map[int32]string // uid → user name
}

type cachedProcess struct {
	start uint64
	proc  snapshot.Process
}

func newProcessCache() *processCache {
	return &processCache{byPid: make(map[int32]cachedProcess), users: make(map[int32]string)}
}

// lookup returns the processes with the given pids, reading the ones not in
// the cache, and forgets processes that own no socket any more. Processes
// that exited before they could be read are left out. fresh counts the
// processes that were read.
func (c *processCache) lookup(ctx context.Context, root string, pids map[int32]struct{}) (out map[int32]snapshot.Process, fresh int) {
	out = make(map[int32]snapshot.Process, len(pids))
	selfNS := netnsOf(root, "self")
	for pid := range pids {
		start, err := startKey(ctx, root, pid)
		if err != nil {
			delete(c.byPid, pid)
			continue // exited
		}
		if cp, ok := c.byPid[pid]; ok && cp.start == start {
			out[pid] = cp.proc
			continue
		}
		p := c.read(ctx, root, pid, selfNS)
		fresh++
		c.byPid[pid] = cachedProcess{start: start, proc: p}
		out[pid] = p
	}
	for pid := range c.byPid {
		if _, ok := pids[pid]; !ok {
			delete(c.byPid, pid)
		}
	}
	return out, fresh
}

// read reads one process through gopsutil. Fields that cannot be read stay
// empty: a process may exit, or hide its details, at any moment.
func (c *processCache) read(ctx context.Context, root string, pid int32, selfNS string) snapshot.Process {
	// NewProcessWithContext would check that pid exists on this host; a
	// Process value reads everything below root, which fixtures need.
	gp := &process.Process{Pid: pid}
	p := snapshot.Process{PID: pid}
	p.Name, _ = gp.NameWithContext(ctx)
	if uids, err := gp.UidsWithContext(ctx); err == nil && len(uids) > 0 {
		p.User = c.userName(uids[0])
	}
	p.Cmdline, _ = gp.CmdlineWithContext(ctx)
	p.Namespace = namespaceOf(root, pid, selfNS)
	return p
}

// userName returns the name of uid, or the number when it has no name, or
// "" for a negative (unknown) uid. Names are cached.
func (c *processCache) userName(uid int32) string {
	if uid < 0 {
		return ""
	}
	if n, ok := c.users[uid]; ok {
		return n
	}
	n := strconv.Itoa(int(uid))
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	c.users[uid] = n
	return n
}
