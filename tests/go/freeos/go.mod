module boxwise.test/freeos

go 1.19
