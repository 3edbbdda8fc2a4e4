import MediadCLI
