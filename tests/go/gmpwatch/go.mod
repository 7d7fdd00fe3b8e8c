module boxwise.test/gmpwatch

// go 1.25: DefaultGODEBUG keeps containermaxprocs on (Go 1.25+ only).
go 1.25
