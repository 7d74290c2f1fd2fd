package kubetest

import "syscall"

// sysProcAttr kills the servers when the test process dies (a timeout panic,
// ^C), so no etcd or kube-apiserver outlives its test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
