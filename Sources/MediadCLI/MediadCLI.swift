// MediadCLI
