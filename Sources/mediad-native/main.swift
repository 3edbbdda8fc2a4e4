import MediaProcessing
import MediadCLI
import NativeStages

// The same command line as `mediad`, with the native stages linked in: the binary that worker
// processes run, and that runs `isolation: none`.
LinkedStages.install(StandardStages.linked)
Mediad.runWorkerIfRequested()
await Mediad.main()
