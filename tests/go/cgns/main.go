// Command cgns runs a command in a new cgroup namespace rooted at the caller's current
// cgroup, for the VM tests (busybox's unshare has no -C).
//
//	cgns [-remount] CMD ARGS...
//
// -remount also enters a new mount namespace and mounts a fresh cgroup2 at /sys/fs/cgroup,
// so the mount's root is the namespace root (what a container runtime does). Without it the
// old mount stays, and mountinfo shows its root as "/.." relative to the namespace.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
)

const mountPoint = "/sys/fs/cgroup"

// CLONE_NEWCGROUP (Linux 4.6); Go 1.19's syscall package does not name it.
const cloneNewCgroup = 0x02000000

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "cgns: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	args := os.Args[1:]
	remount := len(args) > 0 && args[0] == "-remount"
	if remount {
		args = args[1:]
	}
	if len(args) == 0 {
		die("usage: cgns [-remount] CMD ARGS...")
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		die("%v", err)
	}
	// Namespaces belong to the thread that unshares; exec from that same thread.
	runtime.LockOSThread()
	flags := cloneNewCgroup
	if remount {
		flags |= syscall.CLONE_NEWNS
	}
	if err := syscall.Unshare(flags); err != nil {
		die("unshare: %v", err)
	}
	if remount {
		// Private first, so the new mount does not propagate back to the caller.
		if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
			die("make / private: %v", err)
		}
		if err := syscall.Unmount(mountPoint, syscall.MNT_DETACH); err != nil {
			die("unmount %s: %v", mountPoint, err)
		}
		if err := syscall.Mount("cgroup2", mountPoint, "cgroup2", 0, ""); err != nil {
			die("mount cgroup2 at %s: %v", mountPoint, err)
		}
	}
	if err := syscall.Exec(path, args, os.Environ()); err != nil {
		die("exec %s: %v", path, err)
	}
}
