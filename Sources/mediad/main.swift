import MediadCLI

// `mediad worker` runs its blocking loop on the main thread, before any async code.
Mediad.runWorkerIfRequested()
await Mediad.main()
