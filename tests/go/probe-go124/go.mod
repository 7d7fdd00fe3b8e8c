module boxwise.test/probe

// go 1.24: a Go 1.25+ toolchain builds it with DefaultGODEBUG containermaxprocs=0.
go 1.24
