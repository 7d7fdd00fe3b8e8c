module boxwise.test/threads

go 1.19
