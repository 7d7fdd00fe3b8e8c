module boxwise.test/probe

go 1.19
