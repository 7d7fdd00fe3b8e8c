module boxwise.test/pprofgen

go 1.19
