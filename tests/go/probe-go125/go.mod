module boxwise.test/probe

// go 1.25: DefaultGODEBUG keeps containermaxprocs on (Go 1.25+ only).
go 1.25
