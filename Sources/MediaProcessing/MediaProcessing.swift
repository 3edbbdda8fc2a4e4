// MediaProcessing
