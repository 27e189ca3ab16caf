package testenv

import "syscall"

// killGroup kills a child's whole process group.
func killGroup(pid int) error {
	return syscall.Kill(-pid, syscall.SIGKILL)
}
