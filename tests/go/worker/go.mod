module boxwise.test/worker

go 1.19
