module boxwise.test/cgns

go 1.19
