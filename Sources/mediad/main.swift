import MediadCLI

await Mediad.main()
