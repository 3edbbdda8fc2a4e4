// ObjectStorage
