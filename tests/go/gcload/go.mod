module boxwise.test/gcload

go 1.19
