module boxwise.example/allocsvc

go 1.19
