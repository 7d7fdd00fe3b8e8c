module boxwise.test/spin

go 1.19
