module boxwise.test/syscalls

go 1.19
