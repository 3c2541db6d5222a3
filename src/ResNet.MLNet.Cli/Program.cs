using ResNet.MLNet.Cli;

TorchLogLevel.QuietUnlessSet();
return CliApp.Run(args);
