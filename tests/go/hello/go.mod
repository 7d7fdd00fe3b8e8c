module boxwise.test/hello

go 1.19
