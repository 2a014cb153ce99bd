package sdk

import "syscall"

var (
	errEMFILE     = syscall.EMFILE
	errEADDRINUSE = syscall.EADDRINUSE
)
